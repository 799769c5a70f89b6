import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { SEVERITIES } from '../../contract';

/** alerting/oncall-roster.yml: placeholder contacts only (names and Slack handles, never phone numbers). */
export const ROSTER_PATH = path.resolve(__dirname, '../../alerting/oncall-roster.yml');

const responderId = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/);
const rosterSchema = z
  .strictObject({
    responders: z.array(z.strictObject({ id: responderId, name: z.string().min(1).max(100), slack: z.string().regex(/^@[\w.-]{1,80}$/) })).min(1),
    convene: z.partialRecord(z.enum(SEVERITIES), z.array(responderId)),
  })
  .superRefine((roster, ctx) => {
    const ids = new Set(roster.responders.map((r) => r.id));
    if (ids.size !== roster.responders.length) ctx.addIssue({ code: 'custom', message: 'responder ids must be unique' });
    for (const [severity, people] of Object.entries(roster.convene)) {
      for (const id of people ?? []) if (!ids.has(id)) ctx.addIssue({ code: 'custom', path: ['convene', severity], message: `unknown responder ${id}` });
    }
  });

export type Roster = z.infer<typeof rosterSchema>;

/** Reads and checks the roster; throws with the file and the problems when it is malformed. */
export function loadRoster(file = ROSTER_PATH): Roster {
  const parsed = rosterSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
