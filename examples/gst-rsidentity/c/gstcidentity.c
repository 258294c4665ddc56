/* rsidentity, the C twin: the same GStreamer element as ../src/lib.rs, on the C API.
 *
 * A GstBaseTransform subclass with an always-present sink and src pad (ANY caps)
 * that runs in passthrough, with an in-place transform that leaves each buffer as
 * it is. The element is registered under the same name, "rsidentity", so the same
 * pipeline loads either build; the plugin (and the file) is called cidentity.
 */
#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

#ifndef VERSION
#define VERSION "0.1.0"
#endif
/* GST_PLUGIN_DEFINE takes the plugin's "source module" from PACKAGE. */
#ifndef PACKAGE
#define PACKAGE "gst-rsidentity"
#endif

typedef struct {
  GstBaseTransform parent;
} GstCIdentity;

typedef struct {
  GstBaseTransformClass parent_class;
} GstCIdentityClass;

G_DEFINE_TYPE (GstCIdentity, gst_cidentity, GST_TYPE_BASE_TRANSFORM);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* In place and in passthrough the buffer is already where it must go. */
static GstFlowReturn
gst_cidentity_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  (void) trans;
  (void) buf;
  return GST_FLOW_OK;
}

static void
gst_cidentity_class_init (GstCIdentityClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *transform_class = GST_BASE_TRANSFORM_CLASS (klass);

  gst_element_class_set_static_metadata (element_class, "Identity (C)", "Generic",
      "Passes every buffer through unchanged", "sizekit examples");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  transform_class->passthrough_on_same_caps = TRUE;
  transform_class->transform_ip_on_passthrough = FALSE;
  transform_class->transform_ip = gst_cidentity_transform_ip;
}

static void
gst_cidentity_init (GstCIdentity * self)
{
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  return gst_element_register (plugin, "rsidentity", GST_RANK_NONE, gst_cidentity_get_type ());
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, cidentity,
    "Identity element written in C (the twin of the Rust rsidentity)",
    plugin_init, VERSION, "MIT/X11", "sizekit examples", "https://example.invalid/sizekit")
