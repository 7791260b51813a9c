/** Shared pieces of the OpenAPI route definitions: error responses and JSON bodies. */
import type { z } from "zod";
import { ApiError } from "@kodo/contracts";

export const errors = {
  400: { description: "bad input", content: { "application/json": { schema: ApiError } } },
  404: { description: "not found", content: { "application/json": { schema: ApiError } } },
  409: { description: "conflict with the current state", content: { "application/json": { schema: ApiError } } },
  422: { description: "the request is well-formed but cannot be done", content: { "application/json": { schema: ApiError } } },
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
export const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

