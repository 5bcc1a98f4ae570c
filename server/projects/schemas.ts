import { z } from "zod";

// Names appear in URLs of the old API (/training/<project_name>), so keep them path-safe.
export const projectName = z
  .string()
  .trim()
  .min(1, "required")
  .max(64, "at most 64 characters")
  .regex(/^[\w.-]+$/, "letters, digits, '.', '_' and '-' only");

export const createProjectInput = z.object({ name: projectName, description: z.string().max(2000).default("") });
export const renameProjectInput = z.object({ id: z.number().int().positive(), name: projectName });
export const deleteProjectInput = z.object({ id: z.number().int().positive() });
export const projectByIdInput = z.object({ id: z.number().int().positive() });
