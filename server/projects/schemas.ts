import { z } from "zod";
import { freeText, recordId } from "@/server/http/input";

/**
 * Any language's letters and digits (VisioFirm projects have Chinese names), spaces, '.', '_' and
 * '-': a name is a folder (runs/<project>/) and a URL segment (/training/<project_name>), so no
 * slashes, control characters or other punctuation.
 */
export const projectName = z
  .string()
  .trim()
  .min(1, "required")
  .max(64, "at most 64 characters")
  .regex(/^[\p{L}\p{M}\p{N}_.\- ]+$/u, "letters, digits, spaces, '.', '_' and '-' only")
  // runs/<project>/ is a folder: "." and ".." would put runs outside runs/.
  .refine((v) => v !== "." && v !== "..", "not . or ..");

export const createProjectInput = z.object({ name: projectName, description: freeText(2000).default("") });
export const renameProjectInput = z.object({ id: recordId, name: projectName });
export const deleteProjectInput = z.object({ id: recordId });
export const projectByIdInput = z.object({ id: recordId });
