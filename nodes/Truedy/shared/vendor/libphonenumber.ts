// Replaced at build time by a self-contained bundle (see gulpfile.js), so the
// published package has no runtime dependency on libphonenumber-js.
export { parsePhoneNumberFromString, isSupportedCountry } from 'libphonenumber-js/max';
export type { CountryCode } from 'libphonenumber-js/max';
