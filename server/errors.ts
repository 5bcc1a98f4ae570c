import type { z } from "zod";

/**
 * Typed domain errors. Services throw these; each face (tRPC, each REST dialect)
 * translates them in one place into its own codes and envelope.
 */
export type FieldErrors = Record<string, string[]>;

export class DomainError extends Error {
  constructor(
    message: string,
    public readonly fields?: FieldErrors,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Missing, or belonging to another team (never reveal which). */
export class NotFound extends DomainError {}
/** The request clashes with the current state: duplicate name, resource in use. */
export class Conflict extends DomainError {}
/** The input is wrong: bad field values, unusable files. */
export class Invalid extends DomainError {}
/** Logged in, but the role does not allow it. */
export class Forbidden extends DomainError {}
/** No valid credential. */
export class Unauthorized extends DomainError {}
/** The request body is over its size limit (413). */
export class TooLarge extends DomainError {}
/** The database cannot be reached (restarting, down): every face answers 503 and the client may retry. */
export class Unavailable extends DomainError {
  constructor(message = "The studio's database is unreachable right now; try again in a few seconds") {
    super(message);
  }
}
export class RateLimited extends DomainError {
  constructor(
    message: string,
    public readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/**
 * A failure that trying again cannot fix (a payload no worker can read, a command refused): a job
 * throwing it fails at once, without pg-boss' retries, and a training run fails instead of re-queueing.
 */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Flattens a zod error into `{ "field.path": [messages] }`. */
export function zodFieldErrors(issues: { path: PropertyKey[]; message: string }[]): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of issues) {
    const key = issue.path.map(String).join(".") || "_";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

/** A value (a body, a query, a service's input) parsed with its zod schema; Invalid naming each bad field otherwise. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidFromZod(parsed.error.issues);
  return parsed.data;
}

export function invalidFromZod(issues: { path: PropertyKey[]; message: string }[]): Invalid {
  const fields = zodFieldErrors(issues);
  const summary = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v.join(", ")}`)
    .join("; ");
  return new Invalid(summary || "invalid input", fields);
}

/** Whether a failed query has this PostgreSQL SQLSTATE (drizzle may wrap the driver's error in `cause`). */
function hasSqlState(err: unknown, state: string): boolean {
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code === state || e?.cause?.code === state;
}

/** PostgreSQL's unique_violation, as raised through drizzle and postgres.js. */
export function isUniqueViolation(err: unknown): boolean {
  return hasSqlState(err, "23505");
}

/** A row is still referenced by another (a delete the schema's foreign keys refuse). */
export function isForeignKeyViolation(err: unknown): boolean {
  return hasSqlState(err, "23503");
}

/** A lookup of a row that an input field names: its NotFound names the field too. */
export async function referencedBy<T>(field: string, lookup: Promise<T>): Promise<T> {
  try {
    return await lookup;
  } catch (err) {
    if (err instanceof NotFound) throw new NotFound(err.message, { [field]: ["not found"] });
    throw err;
  }
}
