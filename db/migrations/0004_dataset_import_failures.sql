CREATE TABLE "dataset_import_failures" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "dataset_import_failures_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"dataset_id" integer NOT NULL,
	"name" text NOT NULL,
	"error" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dataset_import_failures" ADD CONSTRAINT "dataset_import_failures_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dataset_import_failures_dataset_idx" ON "dataset_import_failures" USING btree ("dataset_id");--> statement-breakpoint
CREATE INDEX "dataset_import_failures_project_idx" ON "dataset_import_failures" USING btree ("project_id");