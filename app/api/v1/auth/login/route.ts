import { loginV1 } from "@/server/compat/handlers/studio-v1-auth";

export const dynamic = "force-dynamic";

export const POST = (req: Request) => loginV1(req);
