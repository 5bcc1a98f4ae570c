CREATE TABLE "weights" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "weights_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"format" text NOT NULL,
	"task" text,
	"class_names" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"input_shape" jsonb,
	"imgsz" jsonb,
	"file" text NOT NULL,
	"bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"metrics" jsonb,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"status" text DEFAULT 'ready' NOT NULL,
	"error" text,
	"source_experiment_id" integer,
	"source_epoch" integer,
	"dataset_id" integer,
	"dataset_split" text,
	"model" text,
	"architecture_id" integer,
	"parent_id" integer,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "weights" ADD CONSTRAINT "weights_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "weights" ADD CONSTRAINT "weights_source_experiment_id_experiments_id_fk" FOREIGN KEY ("source_experiment_id") REFERENCES "public"."experiments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "weights" ADD CONSTRAINT "weights_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "weights" ADD CONSTRAINT "weights_architecture_id_architectures_id_fk" FOREIGN KEY ("architecture_id") REFERENCES "public"."architectures"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "weights" ADD CONSTRAINT "weights_parent_id_weights_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."weights"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "weights" ADD CONSTRAINT "weights_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "weights_project_idx" ON "weights" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "weights_sha256_idx" ON "weights" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "weights_parent_idx" ON "weights" USING btree ("parent_id");