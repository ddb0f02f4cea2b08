package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The output side of a {@link BlasTape.Producer}: a leaf whose gradient the linear layers reading it hand over, and
 * that autograd may add to as well.
 */
abstract class HandedOutput implements BlasTape.Producer {
    private final NDArray output;
    private NDArray handed;

    /** @param output the step's result, a leaf */
    HandedOutput(NDArray output) {
        this.output = output;
    }

    /** @return the step's result, a leaf */
    final NDArray output() {
        return output;
    }

    @Override
    public final boolean produced(NDArray a) {
        return a == output;
    }

    @Override
    public final void takeGradient(NDArray g) {
        if (handed == null) {
            handed = g;
        } else {
            try (NoGradient off = NoGradient.scope(); g) {
                handed.addi(g);
            }
        }
    }

    /**
     * @return the output's whole gradient, for the caller to close: what was handed over plus what autograd put in
     *     its {@code .grad} (where something outside the tape read it too); null when there is none
     */
    final NDArray outputGradient() {
        NDArray g = handed;
        handed = null;
        NDArray fromGraph = JniUtils.getGradient(pt(output));
        if (fromGraph != null) {
            try (NoGradient off = NoGradient.scope(); fromGraph) {
                g = g == null ? fromGraph.duplicate() : g.addi(fromGraph);
            }
        }
        return g;
    }
}
