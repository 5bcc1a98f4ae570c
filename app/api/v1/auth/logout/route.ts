import { logoutV1 } from "@/server/compat/handlers/studio-v1-auth";

export const dynamic = "force-dynamic";

export const POST = (req: Request) => logoutV1(req);
