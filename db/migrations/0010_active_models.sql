CREATE TABLE "active_models" (
	"team_id" integer PRIMARY KEY NOT NULL,
	"weights_id" integer NOT NULL,
	"set_by" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "active_models" ADD CONSTRAINT "active_models_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "active_models" ADD CONSTRAINT "active_models_weights_id_weights_id_fk" FOREIGN KEY ("weights_id") REFERENCES "public"."weights"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "active_models" ADD CONSTRAINT "active_models_set_by_users_id_fk" FOREIGN KEY ("set_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;