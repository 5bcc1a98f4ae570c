import type { Ctx } from "@/server/context";
import { resolveImportPath } from "@/server/datasets/import";
import { env } from "@/server/env";
import { Conflict, DomainError, Invalid } from "@/server/errors";
import { checkFineTuneWeights, type FineTuneTarget } from "@/server/weights/fine-tune";
import type { Hyperparameters } from "./schemas";

/**
 * `hyperparameters.pretrained` is read by the worker, which can read every file of the server. A member
 * may name only what they could import anyway: an entry of their team's weights library
 * (`weights:<id>` or `<id>`, kept as `hyperparameters.weights`) or a file under STUDIO_IMPORT_ROOTS.
 */

const FIELD = "hyperparameters.pretrained";
const LIBRARY_REFERENCE = /^(?:weights:)?(\d{1,9})$/;

/** The real path of a pretrained file under the import roots; Invalid naming the field otherwise. */
export async function pretrainedFileUnderRoots(requested: string): Promise<string> {
  try {
    return await resolveImportPath(requested, env().importRoots, "file");
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    throw new Invalid(`${FIELD}: ${error.message}; name a weights entry (weights:<id>) or a file under STUDIO_IMPORT_ROOTS`, { [FIELD]: error.fields?.path ?? [error.message] });
  }
}

/**
 * The hyper-parameters to store, with what the run starts from checked: `weights` as a library entry, a
 * library reference in `pretrained` moved to `weights` (checked the same way), a file by its real path.
 */
export async function checkStartingWeights(ctx: Ctx, hyperparameters: Hyperparameters, target: FineTuneTarget): Promise<Hyperparameters> {
  const { pretrained, ...rest } = hyperparameters;
  if (pretrained === undefined) {
    if (rest.weights !== undefined) await checkFineTuneWeights(ctx, rest.weights, target);
    return hyperparameters;
  }
  const reference = LIBRARY_REFERENCE.exec(pretrained.trim());
  if (reference) {
    const id = Number(reference[1]);
    if (rest.weights !== undefined && rest.weights !== id) {
      throw new Invalid(`${FIELD} names weights ${id} but hyperparameters.weights names ${rest.weights}; give one`, { [FIELD]: ["differs from hyperparameters.weights"] });
    }
    await checkFineTuneWeights(ctx, id, target, FIELD);
    return { ...rest, weights: id };
  }
  if (rest.weights !== undefined) throw new Invalid(`Give either hyperparameters.weights or ${FIELD}, not both`, { [FIELD]: ["given with hyperparameters.weights"] });
  return { ...rest, pretrained: await pretrainedFileUnderRoots(pretrained) };
}

/**
 * The file a run loads, checked again when it starts: the roots or a symbolic link may have changed
 * since the experiment was created, and rows written before this check existed are not trusted.
 */
export async function pretrainedFileForRun(requested: string): Promise<string> {
  try {
    return await pretrainedFileUnderRoots(requested);
  } catch (error) {
    if (error instanceof Invalid) throw new Conflict(error.message);
    throw error;
  }
}
