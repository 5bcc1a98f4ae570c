/**
 * A weights file that cannot be read for a reason in the file itself (wrong or legacy format,
 * malformed content, an unsupported tensor), as opposed to an I/O failure. The weights domain
 * answers it with a 4xx naming the reason.
 */
export class UnreadableWeightsError extends Error {
  override name = "UnreadableWeightsError";
}
