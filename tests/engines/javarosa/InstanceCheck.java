// Test-only CLI: is INSTANCE.xml a valid submission of FORM.xml, as judged by JavaRosa?
//
//   java -cp ODK_Validate.jar:build InstanceCheck FORM.xml INSTANCE.xml [MEDIA_DIR]
//
// exit 0 "OK <instanceID>" | exit 1 "INVALID <ref>: <why>" | exit 2 usage/parse error.
//
// JavaRosa comes from the ODK Validate jar bundled with pyxform, so the check runs the
// same engine as ODK Collect; the steps mirror how Collect re-opens a saved instance
// for editing (restore → populate a copy of the form's template → initialize without
// preloads → validate as if the user pressed "finalize").
//
// On top of Collect, a few things Collect would silently drop on edit are rejected:
// another form's root/id, elements or values the form cannot hold, unknown choices.

import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.javarosa.core.model.Constants;
import org.javarosa.core.model.FormDef;
import org.javarosa.core.model.FormIndex;
import org.javarosa.core.model.SelectChoice;
import org.javarosa.core.model.ValidateOutcome;
import org.javarosa.core.model.condition.Constraint;
import org.javarosa.core.model.data.IAnswerData;
import org.javarosa.core.model.instance.FormInstance;
import org.javarosa.core.model.instance.InstanceInitializationFactory;
import org.javarosa.core.model.instance.TreeElement;
import org.javarosa.core.model.instance.TreeReference;
import org.javarosa.core.reference.PrefixedRootFactory;
import org.javarosa.core.reference.Reference;
import org.javarosa.core.reference.ReferenceManager;
import org.javarosa.form.api.FormEntryController;
import org.javarosa.form.api.FormEntryModel;
import org.javarosa.form.api.FormEntryPrompt;
import org.javarosa.model.xform.XFormsModule;
import org.javarosa.xform.parse.XFormParser;
import org.javarosa.xform.util.XFormUtils;
import org.javarosa.xpath.XPathConditional;

public final class InstanceCheck {

    // Explicit UTF-8 so Vietnamese values survive a C/POSIX locale on the way to Python.
    static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);

    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3) {
            OUT.println("USAGE InstanceCheck FORM.xml INSTANCE.xml [MEDIA_DIR]");
            System.exit(2);
        }
        int code;
        try {
            code = check(new File(args[0]), new File(args[1]),
                    args.length == 3 ? new File(args[2]) : null);
        } catch (Throwable e) { // JavaRosa reports bad XML/XPath with assorted RuntimeExceptions
            OUT.println("ERROR " + oneLine(String.valueOf(e)));
            code = 2;
        }
        OUT.flush();
        System.exit(code);
    }

    static int check(File formFile, File instanceFile, File mediaDir) throws IOException {
        // Installs the factory populate() uses to cast saved text to typed answers
        // (RestoreUtils.xfFact); without it populate() throws a NullPointerException.
        new XFormsModule().registerModule();

        // Must be registered before parsing: external secondary instances
        // (jr://file-csv/..., jr://file/...xml) are loaded while the form is parsed.
        // JavaRosa's built-in CsvExternalInstance reads the file at Reference.getLocalURI().
        if (mediaDir != null) {
            ReferenceManager.instance().addReferenceFactory(new MediaDirFactory(mediaDir));
        }

        FormDef form;
        try (InputStream in = new FileInputStream(formFile)) {
            form = XFormUtils.getFormFromInputStream(in);
        } catch (Exception e) {
            OUT.println("ERROR form does not parse: " + oneLine(String.valueOf(e)));
            return 2;
        }

        // restoreDataModel keeps the element structure and raw text; typing happens in populate().
        TreeElement savedRoot;
        try {
            FormInstance saved = XFormParser.restoreDataModel(Files.readAllBytes(instanceFile.toPath()), null);
            savedRoot = saved.getRoot();
        } catch (RuntimeException e) {
            OUT.println("ERROR instance does not parse: " + oneLine(String.valueOf(e)));
            return 2;
        }
        TreeElement template = form.getMainInstance().getRoot();

        // populate() matches by element name only, so an instance of another form whose
        // names happen to overlap would pass; the root and form id must match first.
        if (!template.getName().equals(savedRoot.getName())) {
            return invalid("/" + savedRoot.getName(),
                    "root element is <" + savedRoot.getName() + ">, form expects <" + template.getName() + ">");
        }
        String formId = template.getAttributeValue(null, "id");
        String savedId = savedRoot.getAttributeValue(null, "id");
        if (formId != null && !formId.equals(savedId)) {
            return invalid("/" + savedRoot.getName() + "/@id",
                    "instance is for form id '" + savedId + "', form id is '" + formId + "'");
        }

        // populate() casts each saved text value to the bind's type, and creates repeat
        // instances from the template, so start from a fresh copy of the form's template.
        TreeElement root = template.deepCopy(true);
        root.populate(savedRoot, form);
        // Stricter than Collect, which would silently drop these on edit: data the
        // form cannot hold means the instance does not belong to this form.
        String lost = findDroppedData(savedRoot, root);
        if (lost != null) {
            OUT.println("INVALID " + oneLine(lost));
            return 1;
        }
        form.getMainInstance().setRoot(root);
        // false = existing instance: no preloads (uid, start, ...) overwrite saved values.
        form.initialize(false, new InstanceInitializationFactory());

        // Must run before validate(): validate() re-answers every question with
        // FormEntryPrompt.getAnswerValue(), which turns an unknown choice into "no answer".
        String badChoice = findUnknownChoice(form);
        if (badChoice != null) {
            OUT.println("INVALID " + oneLine(badChoice));
            return 1;
        }

        // validate() is the non-deprecated validate(true): markCompleted=true is what makes it
        // return the first failing question (with false it never reports). null = all valid.
        ValidateOutcome outcome = form.validate();
        if (outcome != null) {
            TreeReference ref = outcome.failedPrompt.getReference();
            TreeElement node = form.getMainInstance().resolveReference(ref);
            return invalid(node == null ? ref.toString(false) : path(node), reason(outcome.outcome, node));
        }

        String instanceId = metaValue(root, "instanceID");
        if (instanceId == null || instanceId.isEmpty()) {
            return invalid("/" + root.getName() + "/meta/instanceID", "missing instanceID");
        }
        OUT.println("OK " + instanceId);
        return 0;
    }

    static String reason(int outcome, TreeElement node) {
        if (outcome == FormEntryController.ANSWER_REQUIRED_BUT_EMPTY) {
            return "required but empty";
        }
        if (outcome == FormEntryController.ANSWER_CONSTRAINT_VIOLATED) {
            StringBuilder why = new StringBuilder("constraint violated");
            Constraint c = node == null ? null : node.getConstraint();
            if (c != null && c.constraint instanceof XPathConditional) {
                why.append(" (").append(((XPathConditional) c.constraint).xpath).append(')');
            }
            IAnswerData value = node == null ? null : node.getValue();
            why.append(" value=").append(value == null ? "" : value.uncast().getString());
            return why.toString();
        }
        return "answer rejected (outcome " + outcome + ")";
    }

    /** First saved value or element that populate() could not carry into the form's tree. */
    static String findDroppedData(TreeElement saved, TreeElement populated) {
        for (int i = 0; i < saved.getNumChildren(); i++) {
            TreeElement s = saved.getChildAt(i);
            TreeElement p = populated.getChild(s.getName(), s.getMult());
            if (p == null) {
                // meta/* (deprecatedID, instanceName, ...) may be added by servers and clients.
                if ("meta".equals(saved.getName())) continue;
                return path(populated) + "/" + s.getName() + ": "
                        + (s.getMult() > 0 ? "element repeated but form has it once" : "element not in form");
            }
            String ref = path(p);
            if (s.getNumChildren() > 0) {
                String r = findDroppedData(s, p);
                if (r != null) return r;
            } else {
                String text = text(s);
                if (!text.isEmpty() && p.getNumChildren() > 0) {
                    return ref + ": text '" + text + "' in a group";
                }
                if (!text.isEmpty() && p.getValue() == null) {
                    return ref + ": value '" + text + "' is not a valid " + typeName(p.getDataType());
                }
            }
        }
        return null;
    }

    /** Walks the form like a user paging through it (non-relevant questions are skipped). */
    static String findUnknownChoice(FormDef form) {
        FormEntryController fec = new FormEntryController(new FormEntryModel(form));
        fec.jumpToIndex(FormIndex.createBeginningOfFormIndex());
        for (int ev = fec.stepToNextEvent(); ev != FormEntryController.EVENT_END_OF_FORM; ev = fec.stepToNextEvent()) {
            if (ev != FormEntryController.EVENT_QUESTION) continue;
            FormEntryPrompt q = fec.getModel().getQuestionPrompt();
            int ct = q.getControlType();
            if (ct != Constants.CONTROL_SELECT_ONE && ct != Constants.CONTROL_SELECT_MULTI && ct != Constants.CONTROL_RANK) continue;
            TreeElement node = form.getMainInstance().resolveReference(q.getIndex().getReference());
            String raw = node == null ? "" : text(node);
            if (raw.isEmpty()) continue;
            Set<String> allowed = new HashSet<>();
            List<SelectChoice> choices = q.getSelectChoices();
            if (choices != null) for (SelectChoice c : choices) allowed.add(c.getValue());
            for (String v : (ct == Constants.CONTROL_SELECT_ONE ? new String[] {raw} : raw.split("\\s+"))) {
                if (!allowed.contains(v)) {
                    return path(node) + ": '" + v + "' is not one of the " + allowed.size() + " choices"
                            + (allowed.isEmpty() ? " (external itemset not loaded? pass MEDIA_DIR)" : "");
                }
            }
        }
        return null;
    }

    /** XPath of a node, with a 1-based position only on repeat instances: /data/rep[2]/q */
    static String path(TreeElement e) {
        TreeElement parent = (TreeElement) e.getParent();
        String self = "/" + e.getName() + (e.isRepeatable() ? "[" + (e.getMult() + 1) + "]" : "");
        // The root's parent is JavaRosa's nameless document node.
        return parent == null || parent.getName() == null ? self : path(parent) + self;
    }

    static String text(TreeElement e) {
        IAnswerData v = e.getValue();
        String s = v == null ? null : v.uncast().getString();
        return s == null ? "" : s.trim();
    }

    static String typeName(int dataType) {
        switch (dataType) {
            case Constants.DATATYPE_INTEGER: return "int";
            case Constants.DATATYPE_DECIMAL: return "decimal";
            case Constants.DATATYPE_DATE: return "date";
            case Constants.DATATYPE_TIME: return "time";
            case Constants.DATATYPE_DATE_TIME: return "dateTime";
            case Constants.DATATYPE_GEOPOINT: return "geopoint";
            case Constants.DATATYPE_BOOLEAN: return "boolean";
            default: return "value of JavaRosa data type " + dataType;
        }
    }

    // meta may be <meta> or <orx:meta>; TreeElement names are local names either way.
    static String metaValue(TreeElement root, String name) {
        TreeElement meta = root.getChild("meta", 0);
        TreeElement child = meta == null ? null : meta.getChild(name, 0);
        IAnswerData v = child == null ? null : child.getValue();
        return v == null ? null : v.uncast().getString();
    }

    static int invalid(String ref, String why) {
        OUT.println("INVALID " + ref + ": " + oneLine(why));
        return 1;
    }

    static String oneLine(String s) {
        return s.replaceAll("\\s+", " ").trim();
    }

    /** Resolves jr://file/, jr://file-csv/, jr://images/ ... to files in one media directory,
     *  which is how Collect lays out a form's attachments (FORM-media/). */
    static final class MediaDirFactory extends PrefixedRootFactory {
        private final File dir;

        MediaDirFactory(File dir) {
            super(new String[] {"file/", "file-csv/", "images/", "audio/", "video/"});
            this.dir = dir.getAbsoluteFile();
        }

        @Override
        protected Reference factory(String terminal, String uri) {
            return new FileRef(new File(dir, terminal), uri);
        }
    }

    static final class FileRef implements Reference {
        private final File file;
        private final String uri;

        FileRef(File file, String uri) {
            this.file = file;
            this.uri = uri;
        }

        public boolean doesBinaryExist() { return file.exists(); }
        public InputStream getStream() throws IOException { return new FileInputStream(file); }
        public String getURI() { return uri; }
        public String getLocalURI() { return file.getPath(); }
        public boolean isReadOnly() { return true; }
        public OutputStream getOutputStream() throws IOException { throw new IOException("read-only"); }
        public void remove() throws IOException { throw new IOException("read-only"); }
        public Reference[] probeAlternativeReferences() { return new Reference[0]; }
    }
}
