/**
 * The OpenTelemetry SDK as the telemetry specs use it: a tracer provider that keeps finished spans in
 * memory and a meter provider whose reader collects on demand, with the data points of one metric
 * summed by attribute set.
 */
import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A reader that exports nothing: the spec collects when it wants. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One data point: a counter's sum, or a histogram's count and sum. */
export interface Point {
  readonly attributes: Attributes;
  readonly value: number;
  readonly count?: number;
}

export interface Sdk {
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  spans(): ReadableSpan[];
  /** The data points of metric `name` now (empty when it recorded nothing). */
  points(name: string): Promise<Point[]>;
  /** The sum over the points of `name` whose attributes include `where`. */
  total(name: string, where?: Attributes): Promise<number>;
  shutdown(): Promise<void>;
}

export function sdk(): Sdk {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const points = async (name: string): Promise<Point[]> => {
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []).map((p: DataPoint<unknown>) =>
      typeof p.value === 'number'
        ? { attributes: p.attributes, value: p.value }
        : {
            attributes: p.attributes,
            value: (p.value as Histogram).sum ?? 0,
            count: (p.value as Histogram).count,
          },
    );
  };
  return {
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    points,
    async total(name, where = {}) {
      const all = await points(name);
      return all
        .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
        .reduce((n, p) => n + p.value, 0);
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
