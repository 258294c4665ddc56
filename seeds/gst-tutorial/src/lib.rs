//! `rsidentity`: a GStreamer element that passes every buffer through unchanged, written on the
//! gstreamer-rs bindings as the GStreamer size article's plugin was. Its bytes are mostly the
//! bindings (glib, gstreamer, gstreamer-base) and std, which is what the size table measures.

use gst::glib;
use gst::prelude::*;

mod imp {
    use gst::glib;
    use gst::subclass::prelude::*;
    use gst_base::subclass::prelude::*;
    use gst_base::prelude::*;
    use gst_base::subclass::BaseTransformMode;
    use once_cell::sync::Lazy;

    /// The element's state: none, an identity keeps nothing between buffers.
    #[derive(Default)]
    pub struct RsIdentity;

    #[glib::object_subclass]
    impl ObjectSubclass for RsIdentity {
        const NAME: &'static str = "RsIdentity";
        type Type = super::RsIdentity;
        type ParentType = gst_base::BaseTransform;
    }

    impl ObjectImpl for RsIdentity {
        fn constructed(&self) {
            self.parent_constructed();
            // Every buffer is already where it must go: the base class hands it on untouched.
            self.obj().set_passthrough(true);
        }
    }

    impl GstObjectImpl for RsIdentity {}

    impl ElementImpl for RsIdentity {
        fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
            static METADATA: Lazy<gst::subclass::ElementMetadata> = Lazy::new(|| {
                gst::subclass::ElementMetadata::new(
                    "Identity (Rust)",
                    "Generic",
                    "Passes every buffer through unchanged",
                    "sizekit developers",
                )
            });
            Some(&*METADATA)
        }

        fn pad_templates() -> &'static [gst::PadTemplate] {
            static TEMPLATES: Lazy<Vec<gst::PadTemplate>> = Lazy::new(|| {
                let any = gst::Caps::new_any();
                ["src", "sink"]
                    .iter()
                    .map(|name| {
                        let direction = if *name == "src" { gst::PadDirection::Src } else { gst::PadDirection::Sink };
                        gst::PadTemplate::new(name, direction, gst::PadPresence::Always, &any).unwrap()
                    })
                    .collect()
            });
            TEMPLATES.as_ref()
        }
    }

    impl BaseTransformImpl for RsIdentity {
        const MODE: BaseTransformMode = BaseTransformMode::AlwaysInPlace;
        const PASSTHROUGH_ON_SAME_CAPS: bool = true;
        const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

        fn transform_ip(&self, _buffer: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
            Ok(gst::FlowSuccess::Ok)
        }
    }
}

glib::wrapper! {
    /// The element as other code sees it.
    pub struct RsIdentity(ObjectSubclass<imp::RsIdentity>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), "rsidentity", gst::Rank::None, RsIdentity::static_type())
}

gst::plugin_define!(
    rsidentity,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    env!("CARGO_PKG_VERSION"),
    "MIT/X11",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_REPOSITORY"),
    "2026-12-04"
);
