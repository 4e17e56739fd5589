/** Names for the API's shapes, all taken from the generated OpenAPI types (schema.d.ts). */

import type { components } from "./schema";

type Schemas = components["schemas"];

export type Assignment = Schemas["AssignmentOut"];
export type LabelledResponse = Schemas["LabelledResponse"];
export type Message = Schemas["Message"];
export type Me = Schemas["Me"];
export type MyStats = Schemas["MyStats"];
export type SubmitResult = Schemas["SubmitOut"];
export type SkipResult = Schemas["SkipOut"];
export type LoginBody = Schemas["LoginInRequest"];
export type Flag = Schemas["FlagsEnum"];
export type StrengthValue = Schemas["StrengthEnum"];

/** The generated request type leaves `ranking` untyped (a JSON field): tiers of labels. */
export type SubmitRequest = Omit<Schemas["SubmitInRequest"], "ranking"> & { ranking: string[][] };
