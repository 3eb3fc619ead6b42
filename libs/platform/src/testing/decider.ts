import type { EventContract } from '#contracts';
import type { NewEvent } from '../event-store/event-store.types';

/** For given/when/then decider specs: the types of the events decided. */
export const eventTypes = (events: NewEvent[]) => events.map((event) => (event.contract as EventContract).type);

/** The GantryError code (and field, if any) a command is refused with, or 'no error'. */
export function refusalOf(command: () => unknown): string {
  try {
    command();
    return 'no error';
  } catch (error) {
    return `${(error as { code: string }).code} ${(error as { field?: string }).field ?? ''}`.trim();
  }
}
