export { updateV1Augmentation as PUT, deleteV1Augmentation as DELETE } from "@/server/compat/studio-v1/augmentations";
export const dynamic = "force-dynamic";
