/** Evidence bundles: `@kodo/server/evidence` (a light subpath: no database, no OpenCode). */
export { writeBundle, sealBundle, verifyBundle, readManifest, Manifest, ManifestFile, MANIFEST, BUNDLE_FORMAT, type BundleEntry, type BundleInfo, type BundleVerdict } from "./bundle.js";
export { sidecarLine, hashFile, compareBytes, SIDECAR_SUFFIX } from "./sidecar.js";
