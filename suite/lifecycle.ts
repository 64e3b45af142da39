/**
 * The life of one implementation in a conformance run, shared by the CLI runner (suite/runner.ts)
 * and describeConformance (suite/vitest.ts): which cells it has, its setup (ok, unavailable on this
 * machine, or crashed), the facts the report keeps of it, and its dispose. The two drive these
 * steps their own way (a loop; vitest's beforeAll, tests and afterAll), but the steps are these.
 */
import { FAMILY_NAMES, type FamilyName } from '../spec/families.ts';
import { isUnavailableError, type ErrorModel, type FamilyImplementation, type ScanImplementation } from '../spec/implementation.ts';
import { errorMessage, planCells, type CellPlan } from './cells.ts';
import { PROPERTY_NAMES, type PropertyName } from './results.ts';
import type { ArithmeticDeclaration } from './tolerance.ts';

/** Which families and properties a run asks for (absent: all). */
export interface CellSelection {
  readonly families?: readonly FamilyName[];
  readonly properties?: readonly PropertyName[];
  /** Leave out the fixtures cells (describeConformance without fixtures declares none). */
  readonly withoutFixtures?: boolean;
}

/** The families (those the implementation has, among those asked for) and properties (in the order asked) of a run. */
export function cellAxes(implementation: ScanImplementation, selection: CellSelection = {}): { families: FamilyName[]; properties: PropertyName[] } {
  const families = FAMILY_NAMES.filter((f) => implementation.families[f] !== undefined && (selection.families ?? FAMILY_NAMES).includes(f));
  const properties = (selection.properties ?? PROPERTY_NAMES).filter((p) => PROPERTY_NAMES.includes(p) && (p !== 'fixtures' || selection.withoutFixtures !== true));
  return { families, properties };
}

/** Every cell of an implementation, in report order: family × property, split by its expected failures (planCells). */
export function implementationCells(implementation: ScanImplementation, selection: CellSelection = {}): CellPlan[] {
  const { families, properties } = cellAxes(implementation, selection);
  return families.flatMap((family) => properties.flatMap((property) => planCells(implementation, family, property)));
}

/** The arithmetic declaration of one family of an implementation. */
export function declarationOf(implementation: ScanImplementation, family: FamilyName): ArithmeticDeclaration {
  const entry = implementation.families[family] as FamilyImplementation<FamilyName> | undefined;
  return {
    precision: implementation.precision,
    ...(implementation.accumulation && { accumulation: implementation.accumulation }),
    errorModel: entry?.errorModel ?? 'componentwise',
    ...(implementation.subnormals && { subnormals: implementation.subnormals }),
  };
}

/** What the report says of an implementation besides its cells. */
export interface ImplementationHead {
  readonly name: string;
  readonly precision: ScanImplementation['precision'];
  readonly accumulation?: ScanImplementation['precision'];
  readonly description?: string;
  /** The error model each family was held to. */
  readonly errorModels: { readonly [F in FamilyName]?: ErrorModel };
}

/** The report's head of an implementation, with the error models of the given families. */
export function implementationHead(implementation: ScanImplementation, families: readonly FamilyName[]): ImplementationHead {
  return {
    name: implementation.name,
    precision: implementation.precision,
    ...(implementation.accumulation && { accumulation: implementation.accumulation }),
    ...(implementation.description && { description: implementation.description }),
    errorModels: Object.fromEntries(families.map((f) => [f, declarationOf(implementation, f).errorModel])),
  };
}

/** The implementation's environment() (after a successful setup), or the error it threw, said in words. */
export function environmentOf(implementation: ScanImplementation): Readonly<Record<string, string>> {
  try {
    return implementation.environment?.() ?? {};
  } catch (error) {
    return { error: `environment() threw: ${errorMessage(error)}` };
  }
}

/** How setup went: ready; unavailable on this machine (ImplementationUnavailableError); or crashed. */
export type SetupOutcome =
  | { readonly status: 'ok' }
  | { readonly status: 'unavailable' | 'crashed'; readonly reason: string; readonly error: unknown };

/** Runs an implementation's setup and says how it went; it never throws. */
export async function setUp(implementation: ScanImplementation): Promise<SetupOutcome> {
  try {
    await implementation.setup?.();
    return { status: 'ok' };
  } catch (error) {
    const unavailable = isUnavailableError(error);
    return { status: unavailable ? 'unavailable' : 'crashed', reason: `${unavailable ? '' : 'setup threw: '}${errorMessage(error)}`, error };
  }
}

/** Runs an implementation's dispose; the reason it crashed, or undefined when it went well. */
export async function dispose(implementation: ScanImplementation): Promise<string | undefined> {
  try {
    await implementation.dispose?.();
    return undefined;
  } catch (error) {
    return `dispose threw: ${errorMessage(error)}`;
  }
}
