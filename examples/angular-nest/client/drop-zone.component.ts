/** A component that classifies the images a user drops on it, showing each outcome as it comes. */
import { ChangeDetectionStrategy, Component, DestroyRef, inject, signal } from '@angular/core';
import { AthenaService } from 'athena-rx/angular';
import type { Outcome } from 'athena-rx';
import { prepareFiles } from './prepare.js';

interface Row {
  readonly name: string;
  readonly text: string;
}

@Component({
  selector: 'app-drop-zone',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="zone" (dragover)="$event.preventDefault()" (drop)="dropped($event)">Drop images here</div>
    <ul>
      @for (row of rows(); track row.name) {
        <li>{{ row.name }}: {{ row.text }}</li>
      }
    </ul>
  `,
})
export class DropZoneComponent {
  private readonly athena = inject(AthenaService);
  private readonly destroyRef = inject(DestroyRef);
  readonly rows = signal<readonly Row[]>([]);

  dropped(event: DragEvent): void {
    event.preventDefault();
    const files = event.dataTransfer?.files;
    if (files === undefined || files.length === 0) return;
    const run = this.athena.classify(prepareFiles(files)).subscribe({
      next: (outcome) => this.rows.update((rows) => [...rows, row(outcome)]),
      error: (error: unknown) => this.rows.update((rows) => [...rows, { name: 'run', text: String(error) }]),
    });
    // Leaving the page closes the socket; the gateway forgets the images still in flight.
    this.destroyRef.onDestroy(() => run.unsubscribe());
  }
}

function row(outcome: Outcome): Row {
  if (!outcome.ok) return { name: outcome.ref, text: `failed at ${outcome.stage} (${outcome.error.code})` };
  const top = [...outcome.classifications].sort((a, b) => b.weight - a.weight)[0];
  return {
    name: outcome.ref,
    text: top === undefined ? 'no labels' : `${top.label} ${top.weight.toFixed(2)}`,
  };
}
