package org.llmkit.data.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.util.TaskCompletionListener;
import org.llmkit.data.Document;
import org.llmkit.data.PipelinePlan;
import org.llmkit.data.StepRunner;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Consecutive per-document steps as one {@code mapPartitions}: each task builds the pipeline from the
 * recipe once (tokenizer, detectors, scorers are created there, never serialized), runs the steps
 * with llm-data's own {@link StepRunner} in batches, and appends a summary record with the steps'
 * details. The task's resources are closed when it completes, successfully or not.
 */
final class DocumentSteps {

    private DocumentSteps() {
    }

    static JavaRDD<Rec> apply(JavaRDD<Rec> in, PipelineRecipe recipe, int from, int to) {
        return in.mapPartitions(records -> new Run(recipe, from, to, records), true);
    }

    /** The lazy iterator of one task: pulls a batch, runs it, hands the outcomes out. */
    private static final class Run implements Iterator<Rec> {
        private final Iterator<Rec> records;
        private final int from;
        private final int to;
        private final PipelinePlan plan;
        private final StepRunner runner;
        private final int batchSize;
        private final ArrayDeque<Rec> ready = new ArrayDeque<>();
        private boolean summarized;
        private boolean closed;

        Run(PipelineRecipe recipe, int from, int to, Iterator<Rec> records) throws Exception {
            this.records = records;
            this.from = from;
            this.to = to;
            this.plan = recipe.build().plan();
            this.runner = plan.runner(from, to);
            this.batchSize = plan.batchSize();
            TaskContext context = TaskContext.get();
            if (context != null) {
                context.addTaskCompletionListener(new TaskCompletionListener() {
                    @Override
                    public void onTaskCompletion(TaskContext ignored) {
                        close();
                    }
                });
            }
        }

        @Override
        public boolean hasNext() {
            if (ready.isEmpty()) {
                fill();
            }
            return !ready.isEmpty();
        }

        @Override
        public Rec next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return ready.poll();
        }

        private void fill() {
            List<Rec> batch = new ArrayList<>();
            List<Document> docs = new ArrayList<>();
            while (records.hasNext() && docs.size() < batchSize) {
                Rec r = records.next();
                batch.add(r);
                if (r.isAlive()) {
                    docs.add(r.doc);
                }
            }
            if (!batch.isEmpty()) {
                List<StepRunner.Outcome> outcomes = docs.isEmpty() ? List.of() : runner.process(docs);
                int k = 0;
                for (Rec r : batch) {
                    if (!r.isAlive()) {
                        ready.add(r);
                        continue;
                    }
                    StepRunner.Outcome o = outcomes.get(k++);
                    ready.add(o.kept() ? Rec.alive(r.ordinal, o.document(), o.tokens())
                            : Rec.dropped(r.ordinal, o.droppedAt(), o.reason()));
                }
                return;
            }
            if (!summarized) {
                summarized = true;
                Map<Integer, Map<String, Object>> details = new HashMap<>();
                for (int s = from; s < to; s++) {
                    details.put(s, new java.util.LinkedHashMap<>(runner.details(s)));
                }
                ready.add(Rec.summary(details, runner.tokenLengthCounts()));
                close();
            }
        }

        private void close() {
            if (closed) {
                return;
            }
            closed = true;
            runner.close();
            try {
                plan.closeResources();
            } catch (Exception e) {
                throw new IllegalStateException("closing the pipeline's resources failed: " + e.getMessage(), e);
            }
        }
    }
}
