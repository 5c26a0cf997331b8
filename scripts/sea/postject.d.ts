/** The one call of postject (it ships no types) that scripts/package-sea.ts makes. */
declare module 'postject' {
  interface InjectOptions { sentinelFuse?: string; machoSegmentName?: string; overwrite?: boolean }
  const postject: { inject(file: string, resourceName: string, resource: Buffer, options?: InjectOptions): Promise<void> };
  export default postject;
}
