CREATE TABLE "system_samples" (
	"host" text NOT NULL,
	"cpu_percent" real NOT NULL,
	"cpu_cores" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"load1" real NOT NULL,
	"load5" real NOT NULL,
	"load15" real NOT NULL,
	"memory_used" bigint NOT NULL,
	"memory_total" bigint NOT NULL,
	"memory_available" bigint NOT NULL,
	"swap_used" bigint NOT NULL,
	"swap_total" bigint NOT NULL,
	"disk_used" bigint,
	"disk_total" bigint,
	"net_rx_bytes_per_s" real,
	"net_tx_bytes_per_s" real,
	"gpus" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"gpu_unavailable" text,
	"runs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "system_samples_host_at_pk" PRIMARY KEY("host","at")
);
--> statement-breakpoint
CREATE TABLE "system_samples_minute" (
	"host" text NOT NULL,
	"cpu_percent" real NOT NULL,
	"cpu_cores" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"load1" real NOT NULL,
	"load5" real NOT NULL,
	"load15" real NOT NULL,
	"memory_used" bigint NOT NULL,
	"memory_total" bigint NOT NULL,
	"memory_available" bigint NOT NULL,
	"swap_used" bigint NOT NULL,
	"swap_total" bigint NOT NULL,
	"disk_used" bigint,
	"disk_total" bigint,
	"net_rx_bytes_per_s" real,
	"net_tx_bytes_per_s" real,
	"gpus" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"gpu_unavailable" text,
	"runs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"samples" integer NOT NULL,
	"cpu_percent_max" real NOT NULL,
	CONSTRAINT "system_samples_minute_host_minute_pk" PRIMARY KEY("host","minute")
);
--> statement-breakpoint
CREATE TABLE "run_placements" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "run_placements_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"experiment_id" integer NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"worker_pid" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "batch_measurements" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "batch_measurements_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"host" text NOT NULL,
	"device" text NOT NULL,
	"backend" text NOT NULL,
	"model" text NOT NULL,
	"imgsz" integer NOT NULL,
	"bytes_per_image" double precision NOT NULL,
	"intercept_bytes" double precision NOT NULL,
	"free_bytes" bigint NOT NULL,
	"batch" integer NOT NULL,
	"samples" jsonb NOT NULL,
	"measured_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "run_placements" ADD CONSTRAINT "run_placements_experiment_id_experiments_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "system_samples_at_idx" ON "system_samples" USING btree ("at");--> statement-breakpoint
CREATE INDEX "system_samples_minute_minute_idx" ON "system_samples_minute" USING btree ("minute");--> statement-breakpoint
CREATE UNIQUE INDEX "run_placements_run_host_pid_unique" ON "run_placements" USING btree ("experiment_id","host","pid");--> statement-breakpoint
CREATE INDEX "run_placements_host_seen_idx" ON "run_placements" USING btree ("host","last_seen_at");--> statement-breakpoint
CREATE UNIQUE INDEX "batch_measurements_key_unique" ON "batch_measurements" USING btree ("host","device","model","imgsz");
