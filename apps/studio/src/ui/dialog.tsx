/**
 * A modal dialog on the native `<dialog>`: focus moves into it (to the `data-autofocus` element
 * when there is one) and stays there, Escape closes it, focus returns to where it was. `onClose` is
 * called however it closes. The content stays mounted, so what was typed survives a close.
 */
import { useEffect, useId, useRef, type ReactNode } from "react";

export function Dialog(props: { open: boolean; title: string; onClose: () => void; children: ReactNode; wide?: boolean }): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const { open, onClose } = props;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (open && !dialog.open) {
      dialog.showModal();
      dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    }
    if (!open && dialog.open) dialog.close();
  }, [open]);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    const closed = (): void => onClose();
    dialog.addEventListener("close", closed);
    return () => dialog.removeEventListener("close", closed);
  }, [onClose]);
  return (
    <dialog
      ref={ref}
      className={props.wide === true ? "dialog dialog-wide" : "dialog"}
      aria-labelledby={titleId}
      onClick={(event) => {
        // a click on the backdrop (the dialog element itself, outside its content) closes it
        if (event.target === ref.current) ref.current.close();
      }}
    >
      <div className="dialog-body">
        <header className="dialog-head">
          <h2 id={titleId}>{props.title}</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={() => ref.current?.close()}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </dialog>
  );
}
