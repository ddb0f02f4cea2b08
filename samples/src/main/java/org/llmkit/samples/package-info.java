/**
 * Runnable samples, one small program per job, all commands of one jar
 * ({@code java -jar samples/target/llmkit-samples.jar <command> --help}): {@link org.llmkit.samples.PlanSample plan}
 * (the whole flow on bundled data), {@link org.llmkit.samples.GenerateSample generate},
 * {@link org.llmkit.samples.ChatSample chat}, {@link org.llmkit.samples.DataSample data},
 * {@link org.llmkit.samples.FineTuneSample finetune}, {@link org.llmkit.samples.EvalSample eval},
 * {@link org.llmkit.samples.ServeSample serve}, {@link org.llmkit.samples.MemorySample memory} and
 * {@link org.llmkit.samples.DecodeBenchmark bench}. Each class comment shows the library calls the sample makes,
 * without its option parsing.
 */
package org.llmkit.samples;
