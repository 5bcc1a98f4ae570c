import { boolean, index, integer, jsonb, pgTable, real, text } from "drizzle-orm/pg-core";
import { validationPredictions, validations } from "./validations";

type Xyxy = [number, number, number, number];

/**
 * "box": a predicted box; "truth": a labelled box; "label": a classified image (one row per image).
 * Detection rows are judged once, independently of any confidence threshold: matching runs greedily in
 * score order (COCO, IoU ≥ 0.5, same class), so dropping the boxes below a threshold never changes the
 * matches of the boxes above it. At threshold c a box is a TP when `matched` and confidence ≥ c, an FP
 * when not matched and confidence ≥ c; a truth row is an FN when its finder's confidence is null or < c.
 */
export const outcomeKinds = ["box", "truth", "label"] as const;
export type OutcomeKind = (typeof outcomeKinds)[number];

/** Per-image results of a validation, one row per box, labelled box or classified image: queryable by image, class and outcome. */
export const validationOutcomes = pgTable(
  "validation_outcomes",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    validationId: integer("validation_id").notNull().references(() => validations.id, { onDelete: "cascade" }),
    /** The image (its validation_predictions row). */
    predictionId: integer("prediction_id").notNull().references(() => validationPredictions.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: outcomeKinds }).notNull(),
    /** box: its predicted class; truth: its labelled class; label: the image's true class. */
    cls: integer("cls").notNull(),
    /** label: the top-1 class (null for boxes). */
    predictedCls: integer("predicted_cls"),
    /** box: its score; truth: the score of the box that found it (null when none did); label: the top-1 score. */
    confidence: real("confidence"),
    /** box: it found a labelled box; truth: a box found it; label: top-1 is the true class. */
    matched: boolean("matched").notNull(),
    /** IoU with the matched box (null when unmatched). */
    iou: real("iou"),
    /** In the source image's pixels. */
    box: jsonb("box").$type<Xyxy>(),
    /** box: the labelled box it found; truth: the box that found it. */
    matchedBox: jsonb("matched_box").$type<Xyxy>(),
  },
  (t) => [index("validation_outcomes_lookup_idx").on(t.validationId, t.kind, t.cls), index("validation_outcomes_prediction_idx").on(t.predictionId)],
);

/**
 * The confusion-matrix cells each image contributes to, `[predicted][actual]` with the background index
 * = number of classes (detection: Ultralytics' class-agnostic matching at conf 0.25, IoU 0.45; classification:
 * top-1 against the label). The matrix the studio shows is the sum of these, so a cell opens exactly its images.
 */
export const validationConfusion = pgTable(
  "validation_confusion",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    validationId: integer("validation_id").notNull().references(() => validations.id, { onDelete: "cascade" }),
    predictionId: integer("prediction_id").notNull().references(() => validationPredictions.id, { onDelete: "cascade" }),
    predicted: integer("predicted").notNull(),
    actual: integer("actual").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [index("validation_confusion_cell_idx").on(t.validationId, t.predicted, t.actual), index("validation_confusion_prediction_idx").on(t.predictionId)],
);
