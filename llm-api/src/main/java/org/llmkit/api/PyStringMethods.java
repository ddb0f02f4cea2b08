package org.llmkit.api;

import java.beans.FeatureDescriptor;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * An EL resolver that answers Python {@code str} method calls on Java strings inside Jinjava
 * templates ({@code message.content.startswith('x')}, {@code .strip()}, {@code .split()}, ...).
 * Jinjava resolves method calls against the Java class, so without this resolver those calls fail
 * or silently take Java semantics ({@code String.split} takes a regular expression). Only method
 * calls on strings are handled; everything else falls through to the next resolver.
 */
final class PyStringMethods extends ELResolver {

    private static final Set<String> METHODS =
            Set.of(
                    "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "upper",
                    "lower", "title", "capitalize", "replace", "find", "count", "join", "isspace",
                    "isdigit", "isalpha", "isalnum", "isupper", "islower");

    @Override
    public Object invoke(
            ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || !(method instanceof String name)) {
            return null;
        }
        if (!METHODS.contains(name)) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result = call(s, name, args);
        context.setPropertyResolved(true);
        return result;
    }

    private static Object call(String s, String name, Object[] args) {
        switch (name) {
            case "strip":
                return PyStrings.strip(s, optString(args, 0));
            case "lstrip":
                return PyStrings.lstrip(s, optString(args, 0));
            case "rstrip":
                return PyStrings.rstrip(s, optString(args, 0));
            case "startswith":
                return PyStrings.affixMatches(s, arg(args, 0, name), false);
            case "endswith":
                return PyStrings.affixMatches(s, arg(args, 0, name), true);
            case "split":
                return PyStrings.split(s, optString(args, 0), optInt(args, 1, -1));
            case "upper":
                return s.toUpperCase(Locale.ROOT);
            case "lower":
                return s.toLowerCase(Locale.ROOT);
            case "title":
                return PyStrings.title(s);
            case "capitalize":
                return PyStrings.capitalize(s);
            case "replace":
                return PyStrings.replace(
                        s,
                        String.valueOf(arg(args, 0, name)),
                        String.valueOf(arg(args, 1, name)),
                        optInt(args, 2, -1));
            case "find":
                return (long) s.indexOf(String.valueOf(arg(args, 0, name)));
            case "count":
                return (long) PyStrings.split(s, String.valueOf(arg(args, 0, name)), -1).size() - 1;
            case "join":
                return join(s, arg(args, 0, name));
            case "isspace":
                return !s.isEmpty() && s.codePoints().allMatch(PyStrings::isSpace);
            case "isdigit":
                return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha":
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum":
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isupper":
                return s.codePoints().anyMatch(Character::isUpperCase)
                        && s.codePoints().noneMatch(Character::isLowerCase);
            case "islower":
                return s.codePoints().anyMatch(Character::isLowerCase)
                        && s.codePoints().noneMatch(Character::isUpperCase);
            default:
                throw new IllegalStateException("unhandled str method " + name);
        }
    }

    private static String join(String separator, Object items) {
        StringJoiner joiner = new StringJoiner(separator);
        if (items instanceof Iterable<?> iterable) {
            for (Object item : iterable) {
                joiner.add(String.valueOf(item));
            }
        } else if (items instanceof Object[] array) {
            for (Object item : array) {
                joiner.add(String.valueOf(item));
            }
        } else {
            throw new IllegalArgumentException(
                    "str.join expects a list, got " + (items == null ? "None" : items.getClass()));
        }
        return joiner.toString();
    }

    private static Object arg(Object[] args, int index, String method) {
        if (args.length <= index) {
            throw new IllegalArgumentException(
                    "str." + method + " expects at least " + (index + 1) + " argument(s)");
        }
        return args[index];
    }

    private static String optString(Object[] args, int index) {
        return args.length > index && args[index] != null ? String.valueOf(args[index]) : null;
    }

    private static int optInt(Object[] args, int index, int fallback) {
        if (args.length <= index || args[index] == null) {
            return fallback;
        }
        return ((Number) args[index]).intValue();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // Not a property resolver: leaves the context unresolved so the next resolver handles it.
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
