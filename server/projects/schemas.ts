import { z } from "zod";
import { freeText, recordId } from "@/server/http/input";

// Names appear in URLs of the old API (/training/<project_name>), so keep them path-safe.
export const projectName = z
  .string()
  .trim()
  .min(1, "required")
  .max(64, "at most 64 characters")
  .regex(/^[\w.-]+$/, "letters, digits, '.', '_' and '-' only")
  // runs/<project>/ is a folder: "." and ".." would put runs outside runs/.
  .refine((v) => v !== "." && v !== "..", "not . or ..");

export const createProjectInput = z.object({ name: projectName, description: freeText(2000).default("") });
export const renameProjectInput = z.object({ id: recordId, name: projectName });
export const deleteProjectInput = z.object({ id: recordId });
export const projectByIdInput = z.object({ id: recordId });
