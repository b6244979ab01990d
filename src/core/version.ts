/** The version of this lab extension; a test keeps it equal to package.json's. */
export const FRONTEND_VERSION = '0.1.0';
