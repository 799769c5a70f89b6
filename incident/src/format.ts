/** Formatting for people: Korean units, KST times (the guide's and the report template's time zone). */
const KST = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Seoul',
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** `2026-11-30 12:00:05` in KST. */
export const kst = (at: Date | undefined): string => (at ? KST.format(at) : '-');

/** 95 → `1분 35초`, 4 → `4초`, 3725 → `1시간 2분 5초`; undefined → `-`. Whole seconds. */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  const total = Math.round(seconds);
  const sign = total < 0 ? '-' : '';
  const abs = Math.abs(total);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  const parts = [h ? `${h}시간` : '', m ? `${m}분` : '', s || (!h && !m) ? `${s}초` : ''].filter(Boolean);
  return sign + parts.join(' ');
}

/** Seconds of latency: `0.123초` below 10 s, else `12.3초`; NaN/undefined → `측정값 없음`. */
export function latency(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '측정값 없음';
  return `${seconds < 10 ? seconds.toFixed(3) : seconds.toFixed(1)}초`;
}

/** A ratio as a percentage with one decimal; NaN/undefined → `측정값 없음`. */
export function percent(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '측정값 없음';
  return `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
}

/** Grafana's time range parameters pinned to a window (ms since epoch). */
export const grafanaRange = (from: Date, to: Date) => `&from=${from.getTime()}&to=${to.getTime()}`;
