/**
 * A child of the supervisor that exits with this code has said why it cannot run (a port in use,
 * a bad setting): the supervisor stops the studio instead of restarting it (EX_CONFIG of sysexits).
 */
export const EXIT_CANNOT_START = 78;
