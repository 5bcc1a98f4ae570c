CREATE TABLE "validation_predictions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "validation_predictions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"validation_id" integer NOT NULL,
	"dataset_item_id" integer,
	"path" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"predicted" jsonb NOT NULL,
	"truth" jsonb NOT NULL,
	"correct" real
);
--> statement-breakpoint
CREATE TABLE "validations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "validations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"weights_id" integer,
	"experiment_id" integer,
	"dataset_id" integer,
	"split" text NOT NULL,
	"purpose" text DEFAULT 'validation' NOT NULL,
	"task" text NOT NULL,
	"class_names" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"params" jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"runtime" text,
	"images" integer DEFAULT 0 NOT NULL,
	"metrics" jsonb,
	"details" jsonb,
	"speed" jsonb,
	"results_dir" text,
	"error" text,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "validation_predictions" ADD CONSTRAINT "validation_predictions_validation_id_validations_id_fk" FOREIGN KEY ("validation_id") REFERENCES "public"."validations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validation_predictions" ADD CONSTRAINT "validation_predictions_dataset_item_id_dataset_items_id_fk" FOREIGN KEY ("dataset_item_id") REFERENCES "public"."dataset_items"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validations" ADD CONSTRAINT "validations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validations" ADD CONSTRAINT "validations_weights_id_weights_id_fk" FOREIGN KEY ("weights_id") REFERENCES "public"."weights"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validations" ADD CONSTRAINT "validations_experiment_id_experiments_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validations" ADD CONSTRAINT "validations_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validations" ADD CONSTRAINT "validations_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "validation_predictions_validation_idx" ON "validation_predictions" USING btree ("validation_id");--> statement-breakpoint
CREATE INDEX "validations_weights_idx" ON "validations" USING btree ("weights_id");--> statement-breakpoint
CREATE INDEX "validations_experiment_idx" ON "validations" USING btree ("experiment_id");--> statement-breakpoint
CREATE INDEX "validations_project_idx" ON "validations" USING btree ("project_id");