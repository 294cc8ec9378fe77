/** Limits athena-rx keeps to: the one definition every check and message uses. */

/**
 * The longest deployment or correlation id that is safe with the service, in UTF-16 units (it
 * documents 64 as the hard limit; see PROTOCOL.md).
 */
export const MAX_ID_LENGTH = 63;

/** The longest delay a JavaScript timer keeps (`setTimeout` fires at once past it), in milliseconds. */
export const MAX_TIMER_MS = 2_147_483_647;
