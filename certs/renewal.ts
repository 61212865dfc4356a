// When a machine certificate is due for renewal: at the date the cloud gave (renewAfter), or else
// once 45 days or fewer remain (../shared/reference/himds-identity.md section 3). Pure: the
// caller passes the time.

export const DEFAULT_RENEW_DAYS = 45;

const DAY_MS = 86_400_000;
const time = (d: Date | string) => (typeof d === 'string' ? Date.parse(d) : d.getTime());

export function renewalDue(
  cert: { notAfter: Date | string; renewAfter?: Date | string | undefined },
  now: Date,
  renewDays = DEFAULT_RENEW_DAYS,
): boolean {
  const due =
    cert.renewAfter !== undefined ? time(cert.renewAfter) : time(cert.notAfter) - renewDays * DAY_MS;
  return now.getTime() >= due;
}
