CREATE TABLE "validation_confusion" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "validation_confusion_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"validation_id" integer NOT NULL,
	"prediction_id" integer NOT NULL,
	"predicted" integer NOT NULL,
	"actual" integer NOT NULL,
	"count" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "validation_outcomes" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "validation_outcomes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"validation_id" integer NOT NULL,
	"prediction_id" integer NOT NULL,
	"kind" text NOT NULL,
	"cls" integer NOT NULL,
	"predicted_cls" integer,
	"confidence" real,
	"matched" boolean NOT NULL,
	"iou" real,
	"box" jsonb,
	"matched_box" jsonb
);
--> statement-breakpoint
ALTER TABLE "validations" ADD COLUMN "outcomes_recorded" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "validation_confusion" ADD CONSTRAINT "validation_confusion_validation_id_validations_id_fk" FOREIGN KEY ("validation_id") REFERENCES "public"."validations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validation_confusion" ADD CONSTRAINT "validation_confusion_prediction_id_validation_predictions_id_fk" FOREIGN KEY ("prediction_id") REFERENCES "public"."validation_predictions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validation_outcomes" ADD CONSTRAINT "validation_outcomes_validation_id_validations_id_fk" FOREIGN KEY ("validation_id") REFERENCES "public"."validations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validation_outcomes" ADD CONSTRAINT "validation_outcomes_prediction_id_validation_predictions_id_fk" FOREIGN KEY ("prediction_id") REFERENCES "public"."validation_predictions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "validation_confusion_cell_idx" ON "validation_confusion" USING btree ("validation_id","predicted","actual");--> statement-breakpoint
CREATE INDEX "validation_confusion_prediction_idx" ON "validation_confusion" USING btree ("prediction_id");--> statement-breakpoint
CREATE INDEX "validation_outcomes_lookup_idx" ON "validation_outcomes" USING btree ("validation_id","kind","cls");--> statement-breakpoint
CREATE INDEX "validation_outcomes_prediction_idx" ON "validation_outcomes" USING btree ("prediction_id");--> statement-breakpoint
CREATE INDEX "validation_predictions_path_idx" ON "validation_predictions" USING btree ("validation_id","path");
