/** How ids are spelled in both protocols (messages, transfers): a lower-case UUID, as randomUUID() makes them. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
