ALTER TABLE "experiments" DROP CONSTRAINT "experiments_dataset_id_datasets_id_fk";
--> statement-breakpoint
ALTER TABLE "experiments" DROP CONSTRAINT "experiments_architecture_id_architectures_id_fk";
--> statement-breakpoint
ALTER TABLE "experiments" ALTER COLUMN "dataset_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_architecture_id_architectures_id_fk" FOREIGN KEY ("architecture_id") REFERENCES "public"."architectures"("id") ON DELETE set null ON UPDATE no action;