import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { duration, kst } from './format';
import { probeDatabase, type DatabaseFinding } from './database';
import { investigate, renderInvestigation } from './investigate';
import { readServiceLogs, type ServiceLogLine } from './logs';
import { createPrometheus, PROMETHEUS_URL, type Prometheus } from './prometheus';
import { measureIncident, renderReport, writeReportDraft } from './report';
import { loadRoster, type Roster } from './roster';
import { catalogPendingSeconds } from './timeline/catalog';
import { deriveIncidents, phaseDurations, type Incident } from './timeline/incidents';
import { createTimelineStore, type TimelineStore } from './timeline/store';
import { parseMinutes, renderVerification, verify, VERIFY_MINUTES } from './verify';

/** Where `report` writes its drafts by default. */
export const REPORTS_DIR = path.resolve(__dirname, '../reports');
/** The compose stack's PostgreSQL as published on this machine (docker-compose.yml). */
export const DEFAULT_DATABASE_URL = 'postgres://orders:orders@localhost:5432/orders';

export const USAGE = `사용법: npm run incident -- <명령> [옵션]

  ack --as <담당자 id>            대응을 맡았음을 기록합니다 (장애 대응팀 소집). id는 alerting/oncall-roster.yml의 responders.
  investigate [--logs <출처>]     발생 중인 알림에 대해 점검 항목을 측정해 보여 줍니다 (장애 조사).
  verify [--minutes N] [--logs <출처>]
                                  최근 N분(기본 ${VERIFY_MINUTES.default}, ${VERIFY_MINUTES.min}~${VERIFY_MINUTES.max})의 복구를 확인합니다. 복구되지 않았으면 종료 코드 1.
  report [--incident <id>] [--out <파일>]
                                  장애 보고서 초안을 씁니다 (기본: 가장 최근 장애, incident/reports/<id>.md).
                                  사람이 고친 초안은 덮어쓰지 않고 새 초안을 <id>.new.md에 씁니다 (종료 코드 1).
  timeline                        기록된 장애와 단계별 소요 시간을 보여 줍니다.

  <출처>: compose (docker compose logs orders, 기본), 파일 경로, 또는 - (표준 입력)
  환경 변수: DATABASE_URL (기본 ${DEFAULT_DATABASE_URL}), PROMETHEUS_URL (기본 ${PROMETHEUS_URL}), GRAFANA_URL`;

export interface CliDeps {
  store: TimelineStore;
  prom: Prometheus;
  roster: () => Roster;
  readLogs: (source: string, since?: Date) => Promise<ServiceLogLine[]>;
  /** 데이터베이스 부하 점검 against the service's PostgreSQL (database.ts); absent: not checked. */
  probeDatabase?: () => Promise<DatabaseFinding[]>;
  out: (text: string) => void;
  err: (text: string) => void;
  now: () => Date;
  reportsDir?: string;
}

export class UsageError extends Error {}

async function incidentsOf(store: TimelineStore): Promise<Incident[]> {
  return deriveIncidents(await store.list(), { pendingSeconds: catalogPendingSeconds });
}

/**
 * Runs one command; returns the exit code: 0 done (or recovered), 1 not recovered (verify), 2 bad usage, 3 a
 * dependency (PostgreSQL, Prometheus, the logs) could not be read.
 */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const { values } = parseArgs({
      args: rest,
      options: {
        as: { type: 'string' },
        logs: { type: 'string' },
        minutes: { type: 'string' },
        incident: { type: 'string' },
        out: { type: 'string' },
      },
      strict: true,
    });
    switch (command) {
      case 'ack': {
        const roster = deps.roster();
        const id = values.as;
        const person = roster.responders.find((r) => r.id === id);
        if (!person) throw new UsageError(`--as에는 담당자 id가 필요합니다: ${roster.responders.map((r) => r.id).join(', ')}`);
        const at = deps.now();
        await deps.store.record([{ step: 'acknowledged', actor: person.id, occurredAt: at, details: { name: person.name, slack: person.slack } }]);
        const open = (await incidentsOf(deps.store)).filter((i) => !i.recoveredAt).at(-1);
        const convene = open ? (roster.convene[open.severity as keyof Roster['convene']] ?? []) : [];
        deps.out(
          [
            `${kst(at)} ${person.name} (${person.slack}) 님이 대응을 맡았습니다.`,
            open
              ? `진행 중인 장애 ${open.id} (${open.severity}, ${open.alerts.map((a) => a.name).join(', ')})${convene.length ? `: 소집 대상 ${convene.map((c) => roster.responders.find((r) => r.id === c)?.slack ?? c).join(', ')}` : ''}`
              : '진행 중인 장애가 없습니다. 다음 장애에 이 기록이 붙지는 않습니다.',
          ].join('\n'),
        );
        return 0;
      }
      case 'investigate': {
        const source = values.logs ?? 'compose';
        const logs = await deps.readLogs(source, new Date(deps.now().getTime() - 15 * 60_000));
        const database = deps.probeDatabase
          ? await deps.probeDatabase().then((findings) => ({ findings }), (error: Error) => ({ findings: [], error: error.message }))
          : undefined;
        deps.out(renderInvestigation(await investigate(deps.prom, { now: deps.now(), logs, logSource: source, database })));
        return 0;
      }
      case 'verify': {
        const minutes = (() => {
          try {
            return parseMinutes(values.minutes);
          } catch (error) {
            throw new UsageError((error as Error).message);
          }
        })();
        const now = deps.now();
        const source = values.logs ?? 'compose';
        let logs: ServiceLogLine[] | undefined;
        try {
          logs = await deps.readLogs(source, new Date(now.getTime() - minutes * 60_000));
        } catch (error) {
          deps.err(`로그를 읽지 못했습니다 (${source}): ${(error as Error).message}`);
        }
        const result = await verify(deps.prom, { minutes, now, logs });
        await deps.store.record([
          {
            step: 'verified',
            actor: 'incident-cli',
            occurredAt: now,
            details: { passed: result.passed, minutes, failed: result.checks.filter((c) => c.verdict !== 'ok').map((c) => c.title) },
          },
        ]);
        deps.out(renderVerification(result));
        return result.passed ? 0 : 1;
      }
      case 'report': {
        const incidents = await incidentsOf(deps.store);
        const incident = values.incident ? incidents.find((i) => i.id === values.incident) : incidents.at(-1);
        if (!incident) throw new UsageError(values.incident ? `장애 ${values.incident}을(를) 찾지 못했습니다` : '기록된 장애가 없습니다');
        let roster: Roster | undefined;
        try {
          roster = deps.roster();
        } catch {
          roster = undefined;
        }
        const data = await measureIncident(deps.prom, incident, deps.now());
        const markdown = renderReport(data, { roster, prometheusUrl: deps.prom.baseUrl });
        const file = values.out ?? path.join(deps.reportsDir ?? REPORTS_DIR, `${incident.id}.md`);
        mkdirSync(path.dirname(file), { recursive: true });
        const written = writeReportDraft(file, markdown);
        await deps.store.record([{ step: 'reported', actor: 'incident-cli', occurredAt: deps.now(), details: { file: written.file } }]);
        if (written.kept) {
          deps.err(
            `${written.kept}에 사람이 고친 내용이 있어 덮어쓰지 않았습니다. 새 초안은 ${written.file}에 썼습니다: ` +
              `diff -u ${written.kept} ${written.file} 로 비교해 필요한 부분을 옮기세요.`,
          );
          return 1;
        }
        deps.out(`장애 보고서 초안을 썼습니다: ${file}`);
        return 0;
      }
      case 'timeline': {
        const incidents = await incidentsOf(deps.store);
        if (incidents.length === 0) deps.out('기록된 장애가 없습니다.');
        for (const i of incidents) {
          const p = phaseDurations(i);
          deps.out(
            `${i.id} [${i.severity}] ${i.alerts.map((a) => a.name).join(', ')} 발생 ${kst(i.onsetAt)} 감지 ${kst(i.detectedAt)} 복구 ${i.recoveredAt ? kst(i.recoveredAt) : '진행 중'}` +
              ` | 감지까지 ${duration(p.detect)}, 소집까지 ${duration(p.acknowledge)}, 조치까지 ${duration(p.mitigate)}, 복구까지 ${duration(p.recover)}`,
          );
        }
        return 0;
      }
      default:
        throw new UsageError(command ? `알 수 없는 명령: ${command}` : '명령이 없습니다');
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      deps.err(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    deps.err(`실행하지 못했습니다: ${(error as Error).message}`);
    return 3;
  }
}

/** The process entry (`npm run incident -- ...`). */
export async function main(argv = process.argv.slice(2)): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const store = createTimelineStore(databaseUrl);
  try {
    return await runCli(argv, {
      store,
      prom: createPrometheus(),
      roster: () => loadRoster(),
      readLogs: readServiceLogs,
      probeDatabase: () => probeDatabase(databaseUrl),
      out: (text) => process.stdout.write(`${text}\n`),
      err: (text) => process.stderr.write(`${text}\n`),
      now: () => new Date(),
    });
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
