/**
 * What every form of the extension shares: they are JupyterLab `FormComponent`s (rjsf) with this validator, and
 * their controls get accessible names.
 */
import type { ReadonlyJSONObject } from '@lumino/coreutils';
import type { UiSchema as RjsfUiSchema } from '@rjsf/utils';
import { customizeValidator } from '@rjsf/validator-ajv8';

export type UiSchema = RjsfUiSchema<ReadonlyJSONObject>;

/** rjsf's ajv 8 validator, typed for `FormComponent`'s form data. */
export const validator = customizeValidator<ReadonlyJSONObject>();

/**
 * JupyterLab's form templates show each field's title in a `div`, not a `label`: give every control the title of
 * its field as its accessible name, so screen readers (and `getByLabel`) find it.
 */
export function nameControls(root: HTMLElement | null): void {
  for (const control of root?.querySelectorAll<HTMLElement>('input, select, textarea') ?? []) {
    if (control.hasAttribute('aria-label') || control.hasAttribute('aria-labelledby')) {
      continue;
    }
    const title = control.closest('.form-group')?.querySelector('.jp-FormGroup-fieldLabel')?.textContent?.trim();
    if (title) {
      control.setAttribute('aria-label', title);
    }
  }
}
