import { v7 as uuidv7, validate, version } from 'uuid';

/** Time-ordered ids: new rows append to the end of every index instead of splitting pages. */
export const newId = (): string => uuidv7();

export const isUuid = (value: string): boolean => validate(value) && version(value) >= 1;
