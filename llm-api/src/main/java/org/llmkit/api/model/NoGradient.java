package org.llmkit.api.model;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Turns autograd recording off on the current thread for the scope of a try-with-resources block and
 * restores the previous state after. Torch's grad mode is per thread, and DJL leaves it on in every
 * thread but the one that loaded the engine (DJL-NOTES trap 9); inference should never record.
 */
public final class NoGradient implements AutoCloseable {
    private final boolean previous;

    private NoGradient() {
        previous = JniUtils.isGradMode();
        if (previous) {
            JniUtils.setGradMode(false);
        }
    }

    /** @return a scope that ends when closed */
    public static NoGradient scope() {
        return new NoGradient();
    }

    @Override
    public void close() {
        if (previous) {
            JniUtils.setGradMode(true);
        }
    }
}
