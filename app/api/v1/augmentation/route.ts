export { listV1Augmentations as GET, createV1Augmentation as POST } from "@/server/compat/studio-v1/augmentations";
export const dynamic = "force-dynamic";
