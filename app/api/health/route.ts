import { healthRoute } from "@/server/system/health-route";

export const dynamic = "force-dynamic";

export const GET = (req: Request) => healthRoute(req);
