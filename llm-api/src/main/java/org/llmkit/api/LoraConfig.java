package org.llmkit.api;

import java.util.List;

/**
 * A LoRA adapter's settings, as PEFT writes them in {@code adapter_config.json}: each targeted linear
 * layer {@code W} gains {@code (alpha / r) * B A} with {@code A [r, in]}, {@code B [out, r]}.
 *
 * @param rank {@code r}
 * @param alpha {@code lora_alpha}
 * @param dropout {@code lora_dropout} (applied to the LoRA input during training only)
 * @param targetModules module names matched as name suffixes, e.g. {@code q_proj}, {@code v_proj}
 * @param useRslora rank-stabilised scaling {@code alpha / sqrt(r)} instead of {@code alpha / r}
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targetModules, boolean useRslora) {

    /** Validates ranges; messages name the option.
     *
     * @param rank {@code r}
     * @param alpha {@code lora_alpha}
     * @param dropout {@code lora_dropout} (applied to the LoRA input during training only)
     * @param targetModules module names matched as name suffixes, e.g. {@code q_proj}, {@code v_proj}
     * @param useRslora rank-stabilised scaling {@code alpha / sqrt(r)} instead of {@code alpha / r}
     */
    public LoraConfig {
        if (rank <= 0) {
            throw new IllegalArgumentException("LoRA rank r must be > 0 but is " + rank);
        }
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("lora_alpha must be > 0 but is " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1) but is " + dropout);
        }
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException("target_modules must name at least one module, e.g. q_proj, v_proj");
        }
        targetModules = List.copyOf(targetModules);
    }

    /**
     * Creates a config with no dropout and standard scaling.
     *
     * @param rank r
     * @param alpha lora_alpha
     * @param targetModules module names
     * @return the config
     */
    public static LoraConfig of(int rank, double alpha, String... targetModules) {
        return new LoraConfig(rank, alpha, 0, List.of(targetModules), false);
    }

    /** @return the factor applied to {@code B A x}: {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA */
    public double scale() {
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /**
     * Returns whether a module is targeted: its name equals a target or ends with {@code "." + target}.
     *
     * @param moduleName full module name, e.g. {@code model.layers.0.self_attn.q_proj}
     * @return true when targeted
     */
    public boolean targets(String moduleName) {
        for (String t : targetModules) {
            if (moduleName.equals(t) || moduleName.endsWith("." + t)) {
                return true;
            }
        }
        return false;
    }
}
