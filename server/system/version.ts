import packageJson from "@/package.json";

/** The studio's version, as released (package.json). */
export const STUDIO_VERSION: string = packageJson.version;
