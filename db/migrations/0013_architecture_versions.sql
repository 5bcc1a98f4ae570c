CREATE TABLE "architecture_versions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "architecture_versions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"architecture_id" integer NOT NULL,
	"version" integer NOT NULL,
	"name" text NOT NULL,
	"graph" jsonb NOT NULL,
	"summary" jsonb NOT NULL,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "architecture_versions" ADD CONSTRAINT "architecture_versions_architecture_id_architectures_id_fk" FOREIGN KEY ("architecture_id") REFERENCES "public"."architectures"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "architecture_versions" ADD CONSTRAINT "architecture_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "architecture_versions_architecture_version_unique" ON "architecture_versions" USING btree ("architecture_id","version");--> statement-breakpoint
INSERT INTO "architecture_versions" ("architecture_id", "version", "name", "graph", "summary", "created_by", "created_at")
SELECT "id", 1, "name", "graph", "summary", "created_by", "updated_at" FROM "architectures";
