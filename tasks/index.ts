import "./model";
import "./demo";
