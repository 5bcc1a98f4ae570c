import { diffMetric, diffModels, latestValidation, listPredictions } from "@/server/analysis/service";
import { refText } from "@/server/analysis/targets";
import { withCaller, type RouteContext } from "@/server/http/handler";
import { restError } from "@/server/http/rest-error";
import { classIndexOf, parseDiffQuery, parseModelRefSegment, parsePredictionsQuery, studioV1PredictionItem } from "./analysis-mapper";

/** `GET /api/v1/experiments/{id}/predictions?split=&image=&class=&outcome=&conf=&page=&page_size=`: the latest validation's per-image results. */
export async function getV1Predictions(req: Request, route: RouteContext<"id">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const ref = parseModelRefSegment(params.id);
      const query = parsePredictionsQuery(req.url);
      const validation = await latestValidation(ctx, ref, query.split, "id");
      const cls = classIndexOf(validation.classNames, query.class);
      const page = await listPredictions(ctx, { validationId: validation.id, image: query.image, cls, outcome: query.outcome, conf: query.conf, page: query.page, pageSize: query.page_size });
      return Response.json({
        id: refText(ref),
        name: validation.name,
        validation_id: validation.id,
        task: validation.task,
        split: validation.split,
        classes: validation.classNames,
        conf: query.conf,
        class: cls === undefined ? null : validation.classNames[cls],
        outcome: query.outcome ?? null,
        page: page.page,
        page_size: page.pageSize,
        total: page.total,
        items: page.items.map((image) => studioV1PredictionItem(validation.task, validation.classNames, image)),
      });
    },
    { db: route.db },
  );
}

/** `GET /api/v1/experiments/{a}/diff/{b}?split=&conf=&seed=&resamples=`: regressions, fixes and both wrong, per class, and the metric change with its interval. */
export async function getV1Diff(req: Request, route: RouteContext<"id" | "b">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const [a, b] = [parseModelRefSegment(params.id), parseModelRefSegment(params.b)];
      const query = parseDiffQuery(req.url);
      const refs = { a: refText(a), b: refText(b), split: query.split };
      const diff = await diffModels(ctx, { ...refs, conf: query.conf });
      const metric = await diffMetric(ctx, { ...refs, seed: query.seed, resamples: query.resamples });
      const side = (s: typeof diff.a) => ({ id: s.ref, name: s.name, validation_id: s.validationId });
      const images = (bucket: keyof typeof diff.buckets) => diff.buckets[bucket].map((image) => image.path);
      return Response.json({
        a: side(diff.a),
        b: side(diff.b),
        task: diff.task,
        split: diff.split,
        conf: diff.conf,
        images: diff.images,
        unpaired: diff.unpaired,
        regressions: images("regressions"),
        fixes: images("fixes"),
        both_wrong: images("both_wrong"),
        counts: diff.counts,
        per_class: Object.fromEntries(diff.perClass.map(({ name, regressions, fixes, both_wrong, both_right }) => [name, { regressions, fixes, both_wrong, both_right }])),
        metric: { name: metric.name, a: metric.a, b: metric.b, delta: metric.delta, ci95: metric.ci95, seed: metric.seed, resamples: metric.resamples },
      });
    },
    { db: route.db },
  );
}
