import { describe, expect, it } from "vitest";
import { decodeEntities, findAll, parseXml, XmlError } from "../../src/verify/reports/xml.js";

describe("parseXml", () => {
  it("reads elements, attributes, text, CDATA, comments and processing instructions", () => {
    const root = parseXml(
      `\uFEFF<?xml version="1.0"?>\n<!-- top --><a x="1" y='two &amp; &quot;three&quot;'><b/><!-- in --><c>t &lt;1&gt;<![CDATA[<raw & kept>]]></c><?pi x?></a>\n`,
    );
    expect(root.name).toBe("a");
    expect(root.attributes).toEqual({ x: "1", y: 'two & "three"' });
    expect(root.children.map((child) => child.name)).toEqual(["b", "c"]);
    expect(root.children[1]?.text).toBe("t <1><raw & kept>");
  });

  it("decodes numeric references and normalizes literal line breaks in attributes", () => {
    const root = parseXml(`<r m="line1&#10;line2\ttab&#x41;" />`);
    expect(root.attributes["m"]).toBe("line1\nline2 tabA");
    expect(decodeEntities("&#0; &#xD800; &bogus; & &amp;lt;")).toBe("\uFFFD \uFFFD &bogus; & &lt;");
  });

  it("keeps an attribute named __proto__ as data", () => {
    const root = parseXml(`<r __proto__="x" constructor="y"/>`);
    expect(root.attributes["__proto__"]).toBe("x");
    expect(Object.getPrototypeOf(root.attributes)).toBeNull();
  });

  it("finds descendants in document order", () => {
    const root = parseXml("<s><t n='1'><t n='2'/></t><u><t n='3'/></u></s>");
    expect(findAll(root, "t").map((t) => t.attributes["n"])).toEqual(["1", "2", "3"]);
  });

  it.each([
    ["<a><b></a>", "closes"],
    ["<a>", "not closed"],
    ["<a x=1/>", "not quoted"],
    ["<a x='1' x='2'/>", "repeated"],
    ["<a/><b/>", "after the root"],
    ["<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>", "DOCTYPE"],
    ["<a x='<'/>", "contains '<'"],
    ["<a><!-- open</a>", "unterminated comment"],
    ["", "root element"],
  ])("refuses %s", (source, message) => {
    expect(() => parseXml(source)).toThrow(XmlError);
    expect(() => parseXml(source)).toThrow(message);
  });

  it("refuses pathological nesting instead of overflowing the stack", () => {
    expect(() => parseXml("<a>".repeat(300) + "</a>".repeat(300))).toThrow("nested deeper");
  });
});
