ALTER TABLE "training_configs" ADD COLUMN "augmentation" jsonb;--> statement-breakpoint
ALTER TABLE "training_configs" ADD COLUMN "extra" jsonb DEFAULT '{}'::jsonb NOT NULL;