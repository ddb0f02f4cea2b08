package org.llmkit.train;

import java.util.ArrayList;
import java.util.List;

/** Per-step and per-evaluation records of a run, carried across checkpoints. */
final class History {
    final List<Double> losses = new ArrayList<>();
    final List<Double> gradientNorms = new ArrayList<>();
    final List<Double> learningRates = new ArrayList<>();
    final List<Evaluation> evaluations = new ArrayList<>();
    final List<Long> skippedSteps = new ArrayList<>();

    /** @return optimizer steps recorded */
    long steps() {
        return losses.size();
    }

    void add(StepMetrics m) {
        losses.add(m.loss());
        gradientNorms.add(m.gradientNorm());
        learningRates.add(m.learningRate());
        if (m.skipped()) {
            skippedSteps.add(m.step());
        }
    }

    Evaluation add(Evaluation e) {
        evaluations.add(e);
        return e;
    }

    TrainingResult result(double tokensPerSecond, long trainableParameters) {
        return new TrainingResult(steps(), losses, gradientNorms, learningRates, evaluations, tokensPerSecond,
                trainableParameters, skippedSteps);
    }
}
