/** Limits of the ids athena-rx sends: the one definition every check and message uses. */

/**
 * The longest deployment or correlation id that is safe with the service, in UTF-16 units (it
 * documents 64 as the hard limit; see PROTOCOL.md).
 */
export const MAX_ID_LENGTH = 63;
